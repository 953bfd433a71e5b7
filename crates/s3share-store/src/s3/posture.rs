//! The bucket-configuration reads that show a bucket's posture (its exposure), answered as a private bucket
//! on AWS answers them: Block Public Access on, no bucket policy, an ACL that grants only the
//! owner, no default encryption (the files are plain on this computer's disk), versioning never
//! enabled, ACLs disabled (BucketOwnerEnforced), and no access logging. A store started
//! `without_posture_reads` answers NotImplemented instead, as Garage and SeaweedFS do.

use s3s::dto::{
    GetBucketAclOutput, GetBucketEncryptionOutput, GetBucketLoggingOutput,
    GetBucketOwnershipControlsOutput, GetBucketPolicyOutput, GetBucketPolicyStatusOutput,
    GetBucketVersioningOutput, GetPublicAccessBlockOutput, Grant, Grantee, ObjectOwnership, Owner,
    OwnershipControls, OwnershipControlsRule, Permission, PublicAccessBlockConfiguration, Type,
};
use s3s::{S3Result, s3_error};

use super::common::Handler;

/// The owner's canonical id on this store.
const OWNER_ID: &str = "s3share-local-store-owner";

fn owner() -> Owner {
    Owner {
        display_name: Some("local store".into()),
        id: Some(OWNER_ID.into()),
    }
}

impl Handler {
    /// The bucket exists and this store answers exposure reads.
    fn posture_read(&self, bucket: &str) -> S3Result<()> {
        if self.without_posture_reads {
            return Err(s3_error!(
                NotImplemented,
                "This operation is not implemented"
            ));
        }
        if !self.disk.has_bucket(bucket) {
            return Err(s3_error!(NoSuchBucket));
        }
        Ok(())
    }

    pub(super) fn public_access_block(&self, bucket: &str) -> S3Result<GetPublicAccessBlockOutput> {
        self.posture_read(bucket)?;
        if self.empty_posture_documents {
            return Ok(GetPublicAccessBlockOutput {
                public_access_block_configuration: Some(PublicAccessBlockConfiguration::default()),
            });
        }
        Ok(GetPublicAccessBlockOutput {
            public_access_block_configuration: Some(PublicAccessBlockConfiguration {
                block_public_acls: Some(true),
                block_public_policy: Some(true),
                ignore_public_acls: Some(true),
                restrict_public_buckets: Some(true),
            }),
        })
    }

    pub(super) fn policy_status(&self, bucket: &str) -> S3Result<GetBucketPolicyStatusOutput> {
        self.posture_read(bucket)?;
        if self.empty_posture_documents {
            return Ok(GetBucketPolicyStatusOutput {
                policy_status: Some(s3s::dto::PolicyStatus { is_public: None }),
            });
        }
        if self.bucket_policy.is_some() {
            // The documents tests give it deny, never grant: not public.
            return Ok(GetBucketPolicyStatusOutput {
                policy_status: Some(s3s::dto::PolicyStatus {
                    is_public: Some(false),
                }),
            });
        }
        Err(s3_error!(
            NoSuchBucketPolicy,
            "The bucket policy does not exist"
        ))
    }

    /// The policy document the store was given, else none, as a bucket without one answers.
    pub(super) fn policy(&self, bucket: &str) -> S3Result<GetBucketPolicyOutput> {
        self.posture_read(bucket)?;
        match &self.bucket_policy {
            Some(policy) => Ok(GetBucketPolicyOutput {
                policy: Some(policy.clone()),
            }),
            None => Err(s3_error!(
                NoSuchBucketPolicy,
                "The bucket policy does not exist"
            )),
        }
    }

    pub(super) fn acl(&self, bucket: &str) -> S3Result<GetBucketAclOutput> {
        self.posture_read(bucket)?;
        if self.empty_posture_documents {
            return Ok(GetBucketAclOutput::default());
        }
        Ok(GetBucketAclOutput {
            owner: Some(owner()),
            grants: Some(vec![Grant {
                grantee: Some(Grantee {
                    display_name: Some("local store".into()),
                    email_address: None,
                    id: Some(OWNER_ID.into()),
                    type_: Type::from_static(Type::CANONICAL_USER),
                    uri: None,
                }),
                permission: Some(Permission::from_static(Permission::FULL_CONTROL)),
            }]),
        })
    }

    pub(super) fn encryption(&self, bucket: &str) -> S3Result<GetBucketEncryptionOutput> {
        self.posture_read(bucket)?;
        if self.empty_posture_documents {
            return Ok(GetBucketEncryptionOutput {
                server_side_encryption_configuration: Some(
                    s3s::dto::ServerSideEncryptionConfiguration { rules: Vec::new() },
                ),
            });
        }
        Err(s3_error!(
            ServerSideEncryptionConfigurationNotFoundError,
            "The server side encryption configuration was not found"
        ))
    }

    pub(super) fn versioning(&self, bucket: &str) -> S3Result<GetBucketVersioningOutput> {
        self.posture_read(bucket)?;
        Ok(GetBucketVersioningOutput::default())
    }

    pub(super) fn ownership(&self, bucket: &str) -> S3Result<GetBucketOwnershipControlsOutput> {
        self.posture_read(bucket)?;
        if self.empty_posture_documents {
            return Ok(GetBucketOwnershipControlsOutput {
                ownership_controls: Some(OwnershipControls { rules: Vec::new() }),
            });
        }
        Ok(GetBucketOwnershipControlsOutput {
            ownership_controls: Some(OwnershipControls {
                rules: vec![OwnershipControlsRule {
                    object_ownership: ObjectOwnership::from_static(
                        ObjectOwnership::BUCKET_OWNER_ENFORCED,
                    ),
                }],
            }),
        })
    }

    pub(super) fn logging(&self, bucket: &str) -> S3Result<GetBucketLoggingOutput> {
        self.posture_read(bucket)?;
        Ok(GetBucketLoggingOutput::default())
    }
}
